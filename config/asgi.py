import os

from django.core.asgi import get_asgi_application

from config.startup import serving_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()
# The URLconf loaded and start-up's objects frozen out of the collector's walks (config/startup.py).
serving_ready()
