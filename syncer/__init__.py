"""syncer: rclone-style file sync for local folders and MEGA, with bisync and CI mirror jobs."""

__version__ = "0.1.0"
