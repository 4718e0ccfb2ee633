"""Case-performance figures (立案数, 结案率, 按期结案率, ...) for the API and the boards."""
