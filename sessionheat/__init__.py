"""sessionheat: record, replay and element-accurate heatmaps for your staging site.

This package is the application on top: the `sessionheat` command (`cli`, with the options every
command shares in `command_options` and the service's commands in `service_commands`) and the web
app `serve` runs (`web`). The stages it drives (`recorder`, `replay`, `heatmap`) sit beside it, and
they stand on `plumbing` (store, vocabulary, browser launcher, bundled files).
"""

__version__ = "0.1.0"
