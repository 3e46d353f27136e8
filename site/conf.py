"""Sphinx's settings for the course website (site/build.py stages this file with the pages)."""

project = "SMS Conversations Kit"
author = "the SMS Conversations Kit"
extensions = ["myst_nb", "sphinxcontrib.mermaid"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# The notebooks are rendered with their committed outputs, never executed here.
nb_execution_mode = "off"
nb_ipywidgets_js = {}  # no require.js or widget manager from a CDN; widgets show their text
myst_enable_extensions = ["colon_fence"]
myst_fence_as_directive = ["mermaid"]  # ```mermaid in a notebook becomes a diagram
myst_heading_anchors = 3

# Mermaid from the npm package, served by the site (build.py copies it into _static/mermaid).
mermaid_use_local = "mermaid/mermaid.esm.min.mjs"
mermaid_d3_zoom = False
mermaid_fullscreen = False


html_theme = "sphinx_book_theme"
html_title = "SMS Conversations Kit"
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_js_files = ["course.js"]
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
}
html_show_sourcelink = False
html_copy_source = False
