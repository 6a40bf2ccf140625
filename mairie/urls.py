from django.urls import path

from mairie import views

app_name = "mairie"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.LoginView.as_view(), name="login"),
]
