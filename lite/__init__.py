"""The browser edition (JupyterLite): build the static site and serve it."""
