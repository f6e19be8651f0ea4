from django.urls import path

from . import views, views_imports, views_process

urlpatterns = [
    path("<slug:code>/", views.home, name="analysis_home"),
    path("<slug:code>/exports/", views.export_start, name="analysis_export_start"),
    path("<slug:code>/exports/<int:pk>/", views.export_status, name="analysis_export_status"),
    path("<slug:code>/exports/<int:pk>/progress.json", views.export_progress,
         name="analysis_export_progress"),
    path("<slug:code>/exports/<int:pk>/<str:what>/", views.export_download,
         name="analysis_export_download"),
    path("<slug:code>/blinding/", views.blinding, name="analysis_blinding"),
    path("<slug:code>/registry/", views.registry_upload, name="analysis_registry"),
    path("<slug:code>/imports/", views_imports.imports_upload, name="analysis_imports"),
    path("<slug:code>/plan/", views.plan, name="analysis_plan"),
    path("<slug:code>/plan/<int:pk>/", views.run_status, name="analysis_run"),
    path("<slug:code>/plan/<int:pk>/report/", views.run_report, name="analysis_run_report"),
    path("<slug:code>/sample-size/", views.sample_size, name="analysis_sample_size"),
    path("<slug:code>/process/<slug:what>.csv", views_process.process_csv,
         name="analysis_process_csv"),
]
