"""The quiz runner's library: card models, deck loading, claim running, sessions. The CLI in
``quiz.cli`` is the only module that prints."""
