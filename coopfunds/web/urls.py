from allauth.account import views as signin_views
from allauth.socialaccount import views as provider_views
from allauth.urls import build_provider_urlpatterns
from django.contrib.auth import views as auth_views
from django.urls import include, path

from coopfunds.web.views import (
    accounts,
    associations,
    audit,
    budgets,
    claims,
    documents,
    enrollments,
    fund_requests,
    funds,
    home,
    notifications,
    payments,
    plans,
    programs,
    review,
    signin,
    webhooks,
)

urlpatterns = [
    path("", home.home, name="home"),
    # Signing in is django-allauth's (coopfunds.web.signin); "login" and "account_login" are one page.
    path("login/", signin.SignInView.as_view(), name="login"),
    path("login/", signin.SignInView.as_view(), name="account_login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("logout/", auth_views.LogoutView.as_view(), name="account_logout"),
    path("accounts/inactive/", signin_views.account_inactive, name="account_inactive"),
    path("accounts/reauthenticate/", signin_views.reauthenticate, name="account_reauthenticate"),
    path("accounts/2fa/", include("allauth.mfa.urls")),
    path("accounts/sso/cancelled/", provider_views.login_cancelled, name="socialaccount_login_cancelled"),
    path("accounts/sso/error/", provider_views.login_error, name="socialaccount_login_error"),
    path("accounts/sso/signup/", signin.no_signup, name="socialaccount_signup"),
    # SAML single logout is not offered: an unsigned logout request from anywhere would sign people out.
    path("accounts/saml/<slug:key>/sls/", signin.not_offered),
    path("accounts/", include(build_provider_urlpatterns())),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="account_reset_password"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"
    ),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="account_change_password"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("", include(accounts.urlpatterns)),
    path("", include(signin.urlpatterns)),
    path("", include(programs.urlpatterns)),
    path("", include(enrollments.urlpatterns)),
    path("", include(funds.urlpatterns)),
    path("", include(budgets.urlpatterns)),
    path("", include(fund_requests.urlpatterns)),
    path("", include(documents.urlpatterns)),
    path("", include(associations.urlpatterns)),
    path("", include(plans.urlpatterns)),
    path("", include(payments.urlpatterns)),
    path("", include(claims.urlpatterns)),
    path("", include(review.urlpatterns)),
    path("", include(notifications.urlpatterns)),
    path("", include(audit.urlpatterns)),
    path("", include(webhooks.urlpatterns)),
]
