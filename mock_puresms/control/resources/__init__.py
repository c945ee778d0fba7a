"""The control surface's resources, one module each; ``control.routes`` mounts them."""
