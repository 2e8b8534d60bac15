"""The studies of a storage as a table for people (`lenet-search studies`)."""

from __future__ import annotations

from search.storage.studies import StudySummary


def studies_table(summaries: list[StudySummary]) -> str:
    if not summaries:
        return "no studies"
    header = (
        "study",
        "trials",
        "complete",
        "pruned",
        "over budget",
        "failed",
        "best val_acc",
        "storage",
    )
    rows = [
        (
            s.name,
            str(s.trials),
            str(s.complete),
            str(s.pruned),
            str(s.over_budget),
            str(s.failed),
            f"{s.best_value:.4f} (trial {s.best_trial})" if s.best_value is not None else "-",
            s.storage,
        )
        for s in summaries
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        parts = [
            c.ljust(w) if i in (0, len(header) - 1) else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join(line(row) for row in (header, *rows))
