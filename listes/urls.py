from django.urls import path

from listes import views

app_name = "listes"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("usager/", views.usager_home, name="usager_home"),
]
