"""mock_server"""
