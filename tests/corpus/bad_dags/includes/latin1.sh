#!/bin/bash
echo "résumé"
