"""The project file: dataset, augmentation, graph, training config and view layout in one file."""

from studio.core.project.file import (
    SCHEMA_VERSION,
    Project,
    ProjectError,
    default_project,
    load_project,
    project_from_dict,
    save_project,
)

__all__ = ["SCHEMA_VERSION", "Project", "ProjectError", "default_project", "load_project",
           "project_from_dict", "save_project"]
