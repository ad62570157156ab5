"""Media quality: judging streams (E-model, Good/Warning/Poor), client reports, history,
and the live monitor that ties SFU figures and browser reports together."""
