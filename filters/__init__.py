"""Filters: rclone filter rules and ignore files."""
