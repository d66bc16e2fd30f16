"""Release management: move image references between env folders through git and pull requests."""
