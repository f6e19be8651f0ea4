"""The demo: the four seed trials in full flow, built through every app's real code.

It lives in the top app because it composes all the others (enrolment, follow-up,
questionnaires); the apps below never import it."""
