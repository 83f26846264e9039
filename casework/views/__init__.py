def register_views(app):
    pass
