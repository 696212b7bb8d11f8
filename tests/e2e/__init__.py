"""End-to-end tests: the installed ``syncer`` command run as a subprocess on trees made under tmp_path."""
