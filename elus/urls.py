from django.urls import path

from elus import views

app_name = "elus"

urlpatterns = [
    path("credit-heures/", views.simulateur, name="simulateur"),
    path("espace/", views.espace, name="espace"),
    path("espace/absences/<int:absence_pk>/avis.pdf", views.avis, name="avis"),
]
