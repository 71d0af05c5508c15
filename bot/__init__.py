"""The running application: settings, persistence, web app, worker, CLI and the composition root."""
