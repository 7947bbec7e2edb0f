from django.contrib.auth import views as auth_views
from django.urls import include, path

from coopfunds.web.views import (
    accounts,
    associations,
    audit,
    claims,
    documents,
    enrollments,
    funds,
    home,
    notifications,
    payments,
    plans,
    programs,
    review,
    webhooks,
)

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"
    ),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("", include(accounts.urlpatterns)),
    path("", include(programs.urlpatterns)),
    path("", include(enrollments.urlpatterns)),
    path("", include(funds.urlpatterns)),
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
