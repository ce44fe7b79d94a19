"""Patient records: storage, migrations and the operations staff perform."""
