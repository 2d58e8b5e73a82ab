"""The composition app at the top: it knows every module and puts them together — the site
root, the console home (工作台), the demo province (`seed_demo`) and the four-actor test world.
Nothing imports it except the URL configuration, the settings and the tests."""
