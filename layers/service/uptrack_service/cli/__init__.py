"""The `uptrack` command line: the entry point, its subcommands and the HTTP/WebSocket client it uses."""
