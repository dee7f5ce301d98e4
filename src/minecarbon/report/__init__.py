"""The report after the guide's appendix E: tables, figures, DOCX and HTML."""
