"""How every output writes hyperparameters, sizes and durations."""

from search.outputs.text import clock, format_params, format_size, format_value


def test_values_sizes_and_times() -> None:
    assert format_params({"conv1_channels": 31, "learning_rate": 0.0012345, "epochs": 4}) == (
        "conv1=31 lr=0.00123 epochs=4"
    )
    assert (format_value(None), format_value(16), format_value(0.25)) == ("-", "16", "0.25")
    assert (format_size(None), format_size(114_021), format_size(2_500_000)) == (
        "-",
        "114.0k",
        "2.5M",
    )
    assert (clock(5), clock(65), clock(3725)) == ("0:05", "1:05", "1:02:05")
