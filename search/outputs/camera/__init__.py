"""Pages at the camera, served on this machine: `collect` photos of each class, `play --camera`."""
