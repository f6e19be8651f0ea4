"""``/api/``: the versioned API under ``v1/``, its schema and docs, and the token pages."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated

from . import views_tokens
from .authentication import ApiTokenAuthentication
from .views import queries, read, stream, write
from .views.base import Logged


class SchemaView(Logged, SpectacularAPIView):
    """The OpenAPI schema, for a logged-in user or a token; a token's call is logged."""

app_name = "api"

TRIAL = "v1/trials/<slug:code>/"
PARTICIPANT = TRIAL + "participants/<str:study_id>/"
QUERY = TRIAL + "queries/<int:pk>/"

urlpatterns = [
    path("v1/", read.Root.as_view(), name="root"),
    path("v1/me/", read.Me.as_view(), name="me"),
    path(TRIAL, read.TrialMetadata.as_view(), name="trial"),
    path(TRIAL + "codebook/", read.Codebook.as_view(), name="codebook"),
    path(TRIAL + "participants/", read.Participants.as_view(), name="participants"),
    path(PARTICIPANT, read.ParticipantDetail.as_view(), name="participant"),
    path(PARTICIPANT + "audit/", read.AuditTrail.as_view(), name="audit"),
    path(PARTICIPANT + "responses/", write.SubmitResponse.as_view(), name="submit_response"),
    path(TRIAL + "responses/", read.Responses.as_view(), name="responses"),
    path(TRIAL + "scores/", read.Scores.as_view(), name="scores"),
    path(TRIAL + "contacts/", read.Contacts.as_view(), name="contacts"),
    path(TRIAL + "queries/", queries.Queries.as_view(), name="queries"),
    path(QUERY, queries.QueryDetail.as_view(), name="query"),
    path(QUERY + "answer/", queries.AnswerQuery.as_view(), name="query_answer"),
    path(QUERY + "correct/", queries.CorrectFromQuery.as_view(), name="query_correct"),
    path(QUERY + "close/", queries.CloseQuery.as_view(), name="query_close"),
    path(QUERY + "reopen/", queries.ReopenQuery.as_view(), name="query_reopen"),
    path(TRIAL + "odm.xml", stream.Odm.as_view(), name="odm"),
    path(TRIAL + "dataset.<str:fmt>", stream.Dataset.as_view(), name="dataset"),
    # Last of v1: any other path is a JSON not_found, not Django's HTML page.
    re_path(r"^v1/", read.NoSuchEndpoint.as_view(), name="no_such_endpoint"),
    path(
        "schema/",
        SchemaView.as_view(
            authentication_classes=[SessionAuthentication, ApiTokenAuthentication],
            permission_classes=[IsAuthenticated],
            throttle_classes=[],
        ),
        name="schema",
    ),
    path("docs/", views_tokens.docs, name="docs"),
    path("tokens/", views_tokens.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", views_tokens.token_revoke, name="token_revoke"),
]
