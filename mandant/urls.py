from django.urls import path

from mandant import views

app_name = "mandant"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.login, name="login"),
]
