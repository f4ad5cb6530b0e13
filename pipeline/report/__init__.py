"""Reports of a gate verdict: the job summary (Markdown), annotations, HTML and PDF.

`view.py` computes what is shown, `render.py` lays it out with the Jinja2 templates in
`templates/`, `escape.py` holds the escaping rules for scanner text. Jinja2 and WeasyPrint
are imported only when a report is rendered, so `tollgate --help` stays cheap.
"""
