"""The command line: thin; it parses, calls the operations, prints."""
