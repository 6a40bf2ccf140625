from django.urls import path

from police import views

app_name = "police"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.LoginView.as_view(), name="login"),
]
