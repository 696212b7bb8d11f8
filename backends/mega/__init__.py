"""MEGA: its client-side cryptography, the remote backend, and a local MEGA-compatible server."""
