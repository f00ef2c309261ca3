from django import template

register = template.Library()


@register.filter
def get_item(d, key):
    try:
        return d.get(key, key)
    except AttributeError:
        return key


ACTIONS = {"login": "登录", "login_failed": "登录失败", "locked_out": "账号锁定", "logout": "退出",
           "password_change": "修改密码", "upload": "上传校验", "upload_refused": "上传被拒",
           "submit": "提交数据", "submit_refused": "提交被拒", "download": "下载个人数据",
           "run_start": "开始运行", "run_end": "运行结束", "account_create": "新建账号",
           "account_bulk_create": "批量新建账号", "account_reset": "重置密码", "account_disable": "停用账号",
           "account_enable": "启用账号", "answer": "网页填报核实结果", "return": "交回清单",
           "return_refused": "交回清单被拒", "audit_decision": "抽查复核"}


@register.filter
def action_cn(code):
    return ACTIONS.get(code, code)


@register.filter
def role_cn(code):
    return {"admin": "县级管理员", "county": "县级业务员", "township": "乡镇", "village": "村"}.get(code, code)
