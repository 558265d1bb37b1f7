"""The async runtime: MigrationContext, version tables, connections."""
