"""Server-rendered pages (Jinja2). They share the error hierarchy and render HTML."""
