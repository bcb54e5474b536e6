"""Never finishes importing: the import timeout."""

while True:
    pass
