from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from . import audit
from .errors import ApplicationError


def exception_handler(exc, context):
    """DRF's handler plus the clinic's ``ApplicationError`` (400/409) and Django's
    ``ValidationError`` from ``full_clean()`` in services (400 with field errors)."""
    if isinstance(exc, ApplicationError):
        body = {"detail": exc.message, **exc.extra}
        if exc.field:
            body[exc.field] = [exc.message]
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            body = {
                ("non_field_errors" if k == "__all__" else k): v
                for k, v in exc.message_dict.items()
            }
        else:
            body = {"non_field_errors": exc.messages}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    role = serializers.SerializerMethodField()
    role_label = serializers.SerializerMethodField()

    def get_role(self, user) -> str | None:
        return user.role.slug if user.role else None

    def get_role_label(self, user) -> str | None:
        return str(user.role.label) if user.role else None


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


@extend_schema(
    request=TokenRequestSerializer,
    responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField()})},
    auth=[],
    summary="Exchange email and password for an API token",
)
@api_view(["POST"])
@permission_classes([AllowAny])
@throttle_classes([])
def obtain_token(request):
    serializer = TokenRequestSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    user = authenticate(
        request=request._request,
        username=serializer.validated_data["email"].lower(),
        password=serializer.validated_data["password"],
    )
    if user is None or not user.is_active:
        return Response(
            {"detail": "Email or password is not correct, or the account is locked."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    token, _created = Token.objects.get_or_create(user=user)
    audit.record(actor=user, action="auth.token_issued", target=user, request=request._request)
    return Response({"token": token.key})


@extend_schema(responses=UserSerializer, summary="The logged-in user and their role")
@api_view(["GET"])
def me(request):
    return Response(UserSerializer(request.user).data)
