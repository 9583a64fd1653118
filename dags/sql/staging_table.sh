# Included by education_layers.yaml through bash_command: a templated script per table.
echo "staging {{ table }} for {{ ds }}: dedupe by id, cast timestamps to Asia/Tokyo"
