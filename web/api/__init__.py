"""The JSON API: accounts and scheduling."""
