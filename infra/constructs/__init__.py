"""One construct per concern: lake, pipeline, site, monitoring."""
