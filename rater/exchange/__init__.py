"""Moving votes between databases: export/import, the file format, merging, backups.

``votes`` exports and imports, ``file`` reads and writes the exchange format, ``merge`` merges a
parsed file into a store, ``backup`` copies a live database.
"""
