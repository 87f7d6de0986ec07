"""The model side: providers behind one seam, tool schema, code-block parsing, context and cost."""
