"""Stage 5, document: the template context computed from runs, facts and findings
(`context`), figures and equations drawn once and kept (`figures`, `figure_cache`,
`equations`), code listings from the live source (`listings`), HTML through Jinja with
numbering (`render`, `numbering`), and the PDF laid out piece by piece (`pdf_assembly`)."""
