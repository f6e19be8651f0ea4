from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "Analysis"

    def warm_up(self) -> None:
        """matplotlib's fonts, loaded by a first figure (trialsite.warmup)."""
        from matplotlib.figure import Figure

        from .monitoring import figures as monitoring_figures

        fig = Figure(figsize=(1, 1))
        fig.add_subplot().plot([0, 1], [0, 1], label="x")
        monitoring_figures._svg(fig)
