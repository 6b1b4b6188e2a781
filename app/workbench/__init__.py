"""The data workbench's services (photos, …): rules over the models, testable without HTTP
or Redis; the views and APIs hand them plain values and ids."""
