"""Concrete games and adapters: native extensive-form games, OpenSpiel, (later) files and catalogs."""
