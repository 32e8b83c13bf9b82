"""The quiz runner's library: card models, deck loading, claim running, sessions. The CLI in
``quiz.cli`` is the only module that prints."""

from quiz.paths import bind_own_answers

bind_own_answers()  # before anything imports `answers` by name (see there)
