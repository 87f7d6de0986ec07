"""The core: settings, messages and the turn loop. It never imports a front end."""
