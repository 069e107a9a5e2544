"""Request and response bodies of the auth endpoints and ``/users/me``."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, EmailStr, Field, field_validator, model_validator

from argus_management.users.passwords import policy_error

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,64}$"
# Longer than any token we issue; bounds what a client can make us parse.
_TOKEN_MAX = 4096


def _check_password(value: str) -> str:
    error = policy_error(value)
    if error is not None:
        raise ValueError(error)
    return value


class UserSummary(BaseModel):
    """The signed-in user as the console needs it right after login."""

    id: int
    username: str
    roles: list[str]
    permissions: list[str]


class TokenResponse(BaseModel):
    """OAuth2 token response plus the rotating refresh token and the user."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    user: UserSummary


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=_TOKEN_MAX)


class LogoutRequest(BaseModel):
    refresh_token: str | None = Field(None, max_length=_TOKEN_MAX)


class SignupRequest(BaseModel):
    username: str = Field(pattern=USERNAME_PATTERN)
    email: EmailStr | None = None
    password: str = Field(max_length=1024)

    _password = field_validator("password")(_check_password)


class SignupResponse(BaseModel):
    id: int
    username: str
    email: str | None
    roles: list[str]


class PasswordResetRequest(BaseModel):
    """Either the account's e-mail address or its username."""

    email: str | None = Field(None, max_length=254)
    username: str | None = Field(None, max_length=64)

    @model_validator(mode="after")
    def _one_identifier(self) -> Self:
        if not (self.email or self.username):
            raise ValueError("give email or username")
        return self


class PasswordResetConfirm(BaseModel):
    token: str = Field(min_length=1, max_length=256)
    new_password: str = Field(max_length=1024)

    _new_password = field_validator("new_password")(_check_password)


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)

    _new_password = field_validator("new_password")(_check_password)


class MeResponse(BaseModel):
    """The signed-in user's own profile and what they may do."""

    id: int
    username: str
    email: str | None
    roles: list[str]
    permissions: list[str]
    # Directly granted or through a group; ignored when all_cameras is true.
    camera_ids: list[int]
    all_cameras: bool
