"""The `giaoban` command and its subcommands."""
