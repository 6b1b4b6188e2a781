"""The data workbench: rules for moving a dealer's data in and out (photos, imports, list
exports, bulk edits), testable without HTTP or Redis; views, APIs and jobs stay thin
around them and hand them plain values and ids."""
