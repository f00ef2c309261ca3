"""URLs. Objects are named by opaque keys (never a database id or an ID number)."""
from django.urls import path

from portal.views import accounts, answers, runs, submissions, uploads

app_name = "portal"
KEY = "<str:key>"

urlpatterns = [
    path("", accounts.home, name="home"),
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", accounts.logout_view, name="logout"),
    path("password/", accounts.password_view, name="password"),
    path("uploads/", uploads.uploads_view, name="uploads"),
    path(f"uploads/{KEY}/", uploads.upload_view, name="upload"),
    path(f"uploads/{KEY}/findings.xlsx", uploads.findings_download, name="upload_findings"),
    path(f"uploads/{KEY}/annotated.xlsx", uploads.annotated_download, name="upload_annotated"),
    path("submit/", submissions.submit_view, name="submit"),
    path(f"submissions/{KEY}/file", submissions.submission_file, name="submission_file"),
    path("runs/", runs.month_view, name="month"),
    path("runs/start/", runs.run_start, name="run_start"),
    path(f"runs/{KEY}/", runs.run_view, name="run"),
    path(f"runs/{KEY}/status.json", runs.run_status, name="run_status"),
    path("reports/<str:period>/summary/", runs.summary_view, name="summary"),
    path("accounts/", accounts.accounts_view, name="accounts"),
    path("accounts/bulk/", accounts.bulk_create, name="accounts_bulk"),
    path(f"accounts/export/{KEY}.xlsx", accounts.export_download, name="accounts_export"),
    path(f"accounts/{KEY}/<str:action>/", accounts.account_action, name="account_action"),
    path("audit/", runs.audit_view, name="audit"),
    path("issues/", answers.issues_view, name="issues"),
    path("verify/", answers.verify_view, name="verify"),
    path("verify/workbook.xlsx", answers.workbook_download, name="verify_workbook"),
    path("verify/return/", answers.return_upload, name="verify_return"),
    path("progress/", answers.progress_view, name="progress"),
    path("progress/workbooks.zip", answers.progress_zip, name="progress_zip"),
    path(f"households/{KEY}/", answers.household_view, name="household"),
    path("rules/", answers.rules_view, name="rules"),
    path("spot-check/", answers.audit_sample_view, name="audit_sample"),
    path("spot-check/workbook.xlsx", answers.audit_workbook_download, name="audit_workbook"),
]
